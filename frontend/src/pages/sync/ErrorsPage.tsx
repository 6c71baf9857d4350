// Work in progress: the page's content lands in the next commits.
export function ErrorsPage() {
  return <section aria-label="Errors" className="page" />
}
