// 审批中心 (the approval centre): one tab per kind of approval.
// approvals.en.ts has exactly the same keys.
export default {
  nav: '审批中心',
  title: '审批中心',
  subtitle: '等待我审批的事项：看清触发审批的原因，再同意或驳回',
  none: '您没有审批权限',
  reload: '刷新列表',
  conflictReload: '列表已标出已被处理的事项，请刷新',
  tabs: {
    pipeline: '方案与演示/试用',
    quotes: '报价',
  },
  quotes: {
    waiting: '{n} 份报价单等待您审批',
    empty: '没有等待您审批的报价单',
    why: '需要您审批的原因',
    allSteps: '全部审批步骤',
    open: '查看报价单',
    lines: '{n} 行明细',
    off: '相对标准价优惠 {pct}%',
    margin: '毛利率 {pct}%',
  },
}
