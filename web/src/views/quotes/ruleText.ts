// An approval rule read as a sentence ("行折扣高于 10% 时，需部门负责人审批（第 1 步）").
import type { Rule } from '@/api/quotes'
import { i18n, roleLabel } from '@/i18n'
import { money } from '@/utils/quoteMoney'

const t = (key: string, named?: Record<string, unknown>) => (named ? i18n.global.t(key, named) : i18n.global.t(key))

export function thresholdText(r: Pick<Rule, 'condition' | 'threshold'>): string {
  return r.condition === 'amount_gt' ? money(r.threshold) : `${r.threshold / 100}%`
}

export function ruleSentence(r: Rule, departmentName: (id: string) => string): string {
  const when = t(`quotes.ruleWhen.${r.condition}`, { value: thresholdText(r) })
  const scope: string[] = []
  if (r.applies_role) scope.push(t('quotes.rules.scopeRole', { role: roleLabel(r.applies_role) }))
  if (r.applies_department_id) scope.push(t('quotes.rules.scopeDepartment', { department: departmentName(r.applies_department_id) || r.applies_department_id }))
  const who = r.approver_kind === 'department_head' ? t('quotes.approverKinds.department_head') : t('quotes.approval.roleHolder', { role: roleLabel(r.approver_role) })
  return t('quotes.rules.sentence', { scope: scope.length ? scope.join(t('quotes.rules.and')) : t('quotes.rules.anyQuote'), when, who, step: r.step })
}
