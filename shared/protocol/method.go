package protocol

import "reflect"

// Access is who may call a method.
type Access int

// Access levels, from least to most privileged. The zero value is invalid, so
// a descriptor declared without one is caught by the role table test.
const (
	// Handshake methods are the only ones allowed before session.hello.
	Handshake Access = iota + 1
	// Anonymous methods need hello but no login (login, resume).
	Anonymous
	// Viewer methods need any logged-in account.
	Viewer
	// Operator methods need the operator or admin role.
	Operator
	// Admin methods need the admin role.
	Admin
)

func (a Access) String() string {
	switch a {
	case Handshake:
		return "handshake"
	case Anonymous:
		return "anonymous"
	case Viewer:
		return "viewer"
	case Operator:
		return "operator"
	case Admin:
		return "admin"
	}
	return "invalid"
}

// Role is an account's role.
type Role string

// Roles (DESIGN.md).
const (
	RoleAdmin    Role = "admin"
	RoleOperator Role = "operator"
	RoleViewer   Role = "viewer"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleOperator || r == RoleViewer }

// Allows reports whether a logged-in account with role r may call a method of access a.
func (r Role) Allows(a Access) bool {
	switch a {
	case Handshake, Anonymous:
		return true
	case Viewer:
		return r.Valid()
	case Operator:
		return r == RoleOperator || r == RoleAdmin
	case Admin:
		return r == RoleAdmin
	}
	return false
}

// Descriptor is the untyped view of a method, for registries and tests.
type Descriptor struct {
	Name   string
	Access Access
	// Params is the type of the method's params, so that tests can send
	// every method every kind of wrong value; Result the type of its result
	// (the UI's method table is generated from both).
	Params reflect.Type
	Result reflect.Type
}

// Method describes one method: its name, who may call it, and (as type
// parameters) its params and result.
type Method[P, R any] struct {
	Name   string
	Access Access
}

// Descriptor returns the untyped view.
func (m Method[P, R]) Descriptor() Descriptor {
	return Descriptor{Name: m.Name, Access: m.Access, Params: reflect.TypeFor[P](), Result: reflect.TypeFor[R]()}
}

var (
	registry   = map[string]Descriptor{}
	order      []string
	duplicates []string
)

// def registers a method descriptor at package init.
func def[P, R any](name string, access Access) Method[P, R] {
	if _, dup := registry[name]; dup {
		duplicates = append(duplicates, name) // the package's tests fail on any
	}
	registry[name] = Method[P, R]{Name: name, Access: access}.Descriptor()
	order = append(order, name)
	return Method[P, R]{Name: name, Access: access}
}

// All returns every declared method in declaration order.
func All() []Descriptor {
	out := make([]Descriptor, 0, len(order))
	for _, n := range order {
		out = append(out, registry[n])
	}
	return out
}

// Lookup returns the descriptor of a method name.
func Lookup(name string) (Descriptor, bool) {
	d, ok := registry[name]
	return d, ok
}

// Empty is the params or result of methods that carry nothing.
type Empty struct{}

// Duplicates lists method names declared more than once (a programming error).
func Duplicates() []string { return duplicates }
