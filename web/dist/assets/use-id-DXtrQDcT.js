import{Ei as e,_r as t,hi as n,mn as r,oo as i,rn as a,yr as o}from"./css-CmHd1kKw.js";var s={prefix:Math.floor(Math.random()*1e4),current:0},c=Symbol(`elIdInjection`),l=()=>n()?e(c,s):s,u=e=>{let n=l();!o&&n===s&&r(`IdInjection`,`Looks like you are using server rendering, you must provide a id provider to ensure the hydration process to be succeed
usage: app.provide(ID_INJECTION_KEY, {
  prefix: number,
  current: number,
})`);let c=a();return t(()=>i(e)||`${c.value}-id-${n.prefix}-${n.current++}`)};export{l as n,u as t};