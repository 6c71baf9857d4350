// Package mapping turns one side's entity into the other side's field values:
// entity-type pairs, field pairs with a direction, value maps, user maps,
// transforms (constant, template, regex, Markdown <-> HTML <-> text),
// entity filters and link-type pairs.
//
// Everything here is a pure function of its arguments: no I/O, no clock, no
// randomness. The sync engine calls ValidateTypes (or ValidatePair) when a
// process is saved or started, MatchAll or MatchPair to decide which
// entities a process covers, Apply for every entity it syncs, CoerceFields
// to shape the result to the target's schema, LinkType for links, and Hash
// to recognise the values it wrote itself (echo suppression).
//
// Decisions the engine and the desktop rely on:
//
//   - Apply works field by field in a fixed order: source value (or the
//     constant or template), transform, value map, user map. A source field
//     absent from the entity is not written; one present with nil clears.
//     A failing field is reported and left out; the others still flow.
//   - Value maps match ignoring case and surrounding space; several values
//     may map to one, and against the flow of a pair the first pair in list
//     order wins. A value nobody mapped is an error unless the map says
//     default, keep or empty.
//   - User maps match by account id, then email, then display name (or only
//     the one MatchBy names); an ambiguous display name matches nobody.
//   - Hash normalises values so that what a system hands back equals what
//     was written: see Hash for the rules and HashVersion for changing them.
//   - Templates are a {{name}} substitution, not text/template: an
//     administrator's string must not be able to run anything.
//   - The Markdown <-> HTML <-> text transforms are package markup's
//     converters (CommonMark with GitHub's extensions; see its doc).
//
// The configuration types are the process document of shared/apitype
// (aliased here: TypePair, FieldPair, ValueMap, UserMap, Transform,
// Filter...), so the agent, the wire and the desktop share one definition.
// They carry JSON and YAML tags with the same camelCase names, and
// FieldError paths use those names, so the desktop can put an error next to
// the control that holds the offending value.
package mapping
