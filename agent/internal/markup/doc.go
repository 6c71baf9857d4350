// Package markup converts rich text between the forms work systems keep
// it in: Markdown (CommonMark with GitHub's extensions, the engine's own
// form), HTML and plain text here; Textile (Redmine) in markup/textile;
// Atlassian's document format and Jira's wiki markup in markup/adf.
//
// It is a leaf: it and its sub-packages import nothing of Lockstep's but
// each other, so the mapping package (transforms) and the connectors
// (a system's native markup) both use it without either importing the
// other for it.
//
// Every converter takes text from any user of any connected system, so
// each bounds its input (MaxRichTextBytes), recovers from a parser panic
// into an error that does not quote the text (PanicText), returns valid
// UTF-8, and is fuzzed (testdata/fuzz beside each package).
//
// Decisions the engine and the desktop rely on: Markdown is CommonMark
// with GitHub's extensions; HTML inside Markdown is shown as text, never
// passed through; HTMLToMarkdown writes Markdown that renders back to the
// same text and structure, and is a fixed point of a round trip (the fuzz
// tests check it).
package markup
