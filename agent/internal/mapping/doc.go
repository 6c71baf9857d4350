// Package mapping turns one side's entity into the other side's field values:
// entity-type pairs, field pairs with a direction, value maps, user maps,
// transforms (constant, template, regex, Markdown <-> HTML <-> text),
// entity filters and link-type pairs.
//
// Everything here is a pure function of its arguments: no I/O, no clock, no
// randomness. The sync engine calls Validate when a process is saved or
// started, Match to decide which entities a process covers, Apply for every
// entity it syncs, Coerce to shape the result to the target's schema, and
// Hash to recognise the values it wrote itself (echo suppression).
//
// The configuration types carry JSON and YAML tags with the same camelCase
// names, and FieldError paths use those names, so the desktop can put an
// error next to the control that holds the offending value.
package mapping
