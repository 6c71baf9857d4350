package httpx

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// maxSentRead bounds how much of a refused request's JSON body is read
// back for the values it carried.
const maxSentRead = 1 << 20

// sentValues lists the values a JSON request carried (field values,
// comment bodies), read again from its re-openable body. A system that
// refuses a write often quotes them in its message, and the message
// becomes an error the engine stores: they are hidden from it
// (connector.HideValues). Nil for other bodies.
func sentValues(r Request) []string {
	if r.GetBody == nil || !strings.Contains(strings.ToLower(r.Header.Get("Content-Type")), "json") {
		return nil
	}
	rc, err := r.GetBody()
	if err != nil {
		return nil
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxSentRead))
	if err != nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil
	}
	return connector.Texts(v)
}
