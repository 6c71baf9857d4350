// Package bridge holds the structs bound to the webview. They stay logic-free:
// validate, delegate, translate errors. Bound methods appear in JS as
// window.go.bridge.<Struct>.<Method> and in frontend/wailsjs/go/bridge.
package bridge

// Info identifies the running desktop app.
type Info struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// App is bound to the webview. Every exported method becomes callable from JS,
// so only the UI's API belongs here.
type App struct {
	info Info
}

// NewApp returns the binding for an app with the given product name and version.
func NewApp(name, version string) *App {
	return &App{info: Info{Name: name, Version: version}}
}

// AppInfo returns the product name and version for the UI's chrome.
func (a *App) AppInfo() Info {
	return a.info
}
