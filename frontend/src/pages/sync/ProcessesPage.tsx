// Work in progress: the page's content lands in the next commits.
export function ProcessesPage() {
  return <section aria-label="Processes" className="page" />
}
