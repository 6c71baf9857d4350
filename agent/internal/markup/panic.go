package markup

import (
	"fmt"
	"runtime"
)

// PanicText describes a recovered panic for an error without quoting the
// input that caused it: a runtime error's own text (an index, a nil
// dereference), else only the panic value's type. A converter's input is
// an entity's content, which errors (stored and logged) must not carry.
func PanicText(p any) string {
	if e, ok := p.(runtime.Error); ok {
		return e.Error()
	}
	return fmt.Sprintf("a panic (%T)", p)
}
