// Work in progress: the page's content lands in the next commits.
export function PairsPage() {
  return <section aria-label="Pairs" className="page" />
}
