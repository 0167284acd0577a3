import type { Department } from '@/api/types'

export interface DeptNode {
  id: string
  label: string
  dept: Department
  children: DeptNode[]
  disabled?: boolean
}

/** Builds the department forest (sorted by name); orphans become roots. */
export function buildDeptTree(items: Department[], collator = new Intl.Collator('zh-CN')): DeptNode[] {
  const nodes = new Map<string, DeptNode>()
  for (const d of items) nodes.set(d.id, { id: d.id, label: d.name, dept: d, children: [] })
  const roots: DeptNode[] = []
  for (const d of items) {
    const n = nodes.get(d.id)!
    const p = d.parent_id ? nodes.get(d.parent_id) : undefined
    if (p && p !== n) p.children.push(n)
    else roots.push(n)
  }
  const sort = (list: DeptNode[]) => {
    list.sort((a, b) => collator.compare(a.label, b.label))
    list.forEach((n) => sort(n.children))
  }
  sort(roots)
  return roots
}

/** ids of a department and all its descendants */
export function descendantIds(items: Department[], id: string): Set<string> {
  const out = new Set<string>([id])
  let grew = true
  while (grew) {
    grew = false
    for (const d of items) {
      if (d.parent_id && out.has(d.parent_id) && !out.has(d.id)) {
        out.add(d.id)
        grew = true
      }
    }
  }
  return out
}

/** The tree with some nodes disabled (e.g. a department and its subtree when choosing its parent). */
export function disableNodes(tree: DeptNode[], ids: Set<string>): DeptNode[] {
  return tree.map((n) => ({ ...n, disabled: ids.has(n.id), children: disableNodes(n.children, ids) }))
}
