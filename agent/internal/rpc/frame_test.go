package rpc

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

func TestDecodeRequest(t *testing.T) {
	cases := []struct {
		frame string
		code  int // 0 = valid
		id    string
	}{
		{`{"jsonrpc":"2.0","id":1,"method":"agent.info"}`, 0, `1`},
		{`{"jsonrpc":"2.0","id":"a-1","method":"agent.info","params":{}}`, 0, `"a-1"`},
		{`{"jsonrpc":"2.0","id":1,"method":"x","params":null}`, 0, `1`},
		{`not json`, protocol.CodeParse, ``},
		{`{"jsonrpc":"2.0","id":1,`, protocol.CodeParse, ``},
		{`[1,2]`, protocol.CodeInvalidRequest, ``},
		{`{"jsonrpc":"1.0","id":7,"method":"x"}`, protocol.CodeInvalidRequest, `7`},
		{`{"jsonrpc":"2.0","id":7}`, protocol.CodeInvalidRequest, `7`},
		{`{"jsonrpc":"2.0","method":"x"}`, protocol.CodeInvalidRequest, ``},
		{`{"jsonrpc":"2.0","id":{"a":1},"method":"x"}`, protocol.CodeInvalidRequest, ``},
		{`{"jsonrpc":"2.0","id":2,"method":"x","params":[1]}`, protocol.CodeInvalidParams, `2`},
		{`{"jsonrpc":"2.0","id":2,"method":7}`, protocol.CodeInvalidRequest, `2`},
	}
	for _, c := range cases {
		req, err := decodeRequest([]byte(c.frame))
		code := 0
		if err != nil {
			code = err.Code
		}
		if code != c.code || string(req.ID) != c.id {
			t.Errorf("%s: code %d id %q, want %d %q", c.frame, code, req.ID, c.code, c.id)
		}
	}
}

func TestDecodeParamsNamesField(t *testing.T) {
	_, err := decodeParams[apitype.SystemsCreateParams](json.RawMessage(`{"name":5}`))
	if err == nil || err.Data == nil || err.Data.Field != "name" || err.Data.Kind != protocol.KindInvalid {
		t.Fatalf("got %+v", err)
	}
	_, err = decodeParams[apitype.SystemsUpdateParams](json.RawMessage(`{"id":"x","secrets":{"apiKey":1}}`))
	if err == nil || !strings.HasPrefix(err.Data.Field, "secrets") {
		t.Fatalf("nested field: %+v %+v", err, err.Data)
	}
}

// FuzzDecodeFrame feeds arbitrary frames to the decoder: it must never
// panic, and what it accepts must be a well-formed request.
func FuzzDecodeFrame(f *testing.F) {
	for _, s := range []string{`{"jsonrpc":"2.0","id":1,"method":"session.hello","params":{"protocol":1}}`, `{}`, `[]`, `"x"`, `{"id":1e999}`, "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		req, err := decodeRequest(frame)
		if err == nil {
			if req.JSONRPC != "2.0" || req.Method == "" || len(req.ID) == 0 {
				t.Fatalf("accepted a malformed request: %+v", req)
			}
		}
		if len(req.ID) > 64 {
			t.Fatal("echoing an unbounded id")
		}
		resp, _ := json.Marshal(errorResponse(req.ID, &protocol.Error{Code: 1}))
		if !json.Valid(resp) {
			t.Fatalf("invalid response JSON: %s", resp)
		}
	})
}

// FuzzDecodeParams decodes arbitrary params into every params type the API
// has: no panic, and a failure always names a field.
func FuzzDecodeParams(f *testing.F) {
	for _, s := range []string{`{"name":"a","kind":"jira","url":"https://x","settings":{"a":1},"secrets":{"t":"v"}}`, `{"since":"2026-01-01T00:00:00Z","limit":-1}`, `{"offset":-1,"length":99999999999}`, `null`, `{"types":[1]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		check := func(err *protocol.Error) {
			if err != nil && (err.Data == nil || err.Data.Field == "") {
				t.Fatalf("error without a field: %+v", err)
			}
		}
		_, e1 := decodeParams[apitype.SystemsCreateParams](raw)
		check(e1)
		_, e2 := decodeParams[apitype.AuditListParams](raw)
		check(e2)
		_, e3 := decodeParams[apitype.SupportDownloadParams](raw)
		check(e3)
		_, e4 := decodeParams[apitype.EventsSubscribeParams](raw)
		check(e4)
		_, e5 := decodeParams[apitype.SettingsSetParams](raw)
		check(e5)
		_, e6 := decodeParams[apitype.LoginParams](raw)
		check(e6)
		_, e7 := decodeParams[apitype.SystemsSchemaParams](raw)
		check(e7)
		// The string ceiling's walk: no panic, and a string it names is
		// really over the limit it states.
		if json.Valid(raw) {
			if _, limit, n, long := longString(raw, map[string]int{"name": 4}); long && n <= limit {
				t.Fatalf("a string of %d bytes reported over a limit of %d", n, limit)
			}
		}
	})
}
