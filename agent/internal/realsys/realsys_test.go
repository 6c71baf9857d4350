package realsys

import (
	"net/http"
	"testing"
)

func TestParse(t *testing.T) {
	v := parse("noise\nURL=http://127.0.0.1:3000\nAPI_KEY=abc=def\nnot a pair\nBAD KEY=x\n")
	if v["URL"] != "http://127.0.0.1:3000" || v["API_KEY"] != "abc=def" || len(v) != 2 {
		t.Fatalf("parse = %v", v)
	}
}

// TestStart starts both systems and checks each answers with its credentials.
func TestStart(t *testing.T) {
	r := StartRedmine(t)
	req, _ := http.NewRequest("GET", r.URL+"/users/current.json", nil)
	req.Header.Set("X-Redmine-API-Key", r.APIKey)
	expect200(t, req)

	rt := StartRT(t)
	req, _ = http.NewRequest("GET", rt.REST2URL+"/rt", nil)
	req.Header.Set("Authorization", "token "+rt.Token)
	expect200(t, req)
}

func expect200(t *testing.T, req *http.Request) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s = %s", req.Method, req.URL.Path, resp.Status)
	}
}
