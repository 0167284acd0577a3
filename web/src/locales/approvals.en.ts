// The approval centre: English texts, the same keys as approvals.zh-CN.ts.
export default {
  nav: 'Approvals',
  title: 'Approvals',
  subtitle: 'What waits for your decision: see why it needs approval, then approve or reject',
  none: 'You do not approve anything',
  reload: 'Reload',
  conflictReload: 'Items decided elsewhere are marked; reload the list',
  tabs: {
    pipeline: 'Solutions, demos and trials',
    quotes: 'Quotes',
  },
  quotes: {
    waiting: '{n} quotes wait for your approval',
    empty: 'No quotes wait for your approval',
    why: 'Why it needs your approval',
    allSteps: 'All approval steps',
    open: 'Open the quote',
    lines: '{n} lines',
    off: '{pct}% off list',
    margin: 'Margin {pct}%',
  },
}
