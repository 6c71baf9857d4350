// Work in progress: the page's content lands in the next commits.
export function RunsPage() {
  return <section aria-label="Runs" className="page" />
}
