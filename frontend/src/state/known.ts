// The last answer each page got from an agent, kept in memory while the app
// runs, so a page opened while the agent is unreachable shows what was last
// known (the shell marks it as out of date) rather than nothing. Entries are
// per agent and account, and only pages that name a key use them.

const limit = 200
const answers = new Map<string, unknown>()

// knownKey scopes a page's key to the agent and the account it was read as:
// one agent's answers are never shown for another, nor one account's to
// another.
export function knownKey(profile: string, username: string, key: string): string {
  return `${profile}\u0000${username}\u0000${key}`
}

export function remember(key: string, value: unknown): void {
  // Oldest first: a re-read key moves to the end.
  answers.delete(key)
  answers.set(key, value)
  if (answers.size > limit) {
    const oldest = answers.keys().next().value
    if (oldest !== undefined) answers.delete(oldest)
  }
}

export function recall<T>(key: string): T | undefined {
  return answers.get(key) as T | undefined
}

// forgetAll empties the memory (tests; signing out).
export function forgetAll(): void {
  answers.clear()
}
