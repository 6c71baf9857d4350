// The sync pages: processes (list and mapping editor), entity pairs, runs and
// errors. The app shell routes to these four components; none takes props.
export { ProcessesPage } from './ProcessesPage'
export { PairsPage } from './PairsPage'
export { RunsPage } from './RunsPage'
export { ErrorsPage } from './ErrorsPage'
