package protocol

import (
	"reflect"

	a "github.com/lockstep-sync/lockstep/shared/apitype"
)

// EventDescriptor is one event type the agent publishes and the type of
// its payload (the Data of an EventNotification); Data is nil for an event
// that carries none.
type EventDescriptor struct {
	Name string
	Data reflect.Type
}

func event[D any](name string) EventDescriptor {
	return EventDescriptor{Name: name, Data: reflect.TypeFor[D]()}
}

// events lists every event type, in the order of apitype's constants.
var events = []EventDescriptor{
	event[a.ConfigChanged](a.EventConfigChanged),
	event[a.SupportProgress](a.EventSupportProgress),
	{Name: a.EventSessionExpired},
	event[a.RunStarted](a.EventRunStarted),
	event[a.RunFinished](a.EventRunFinished),
	event[a.PairFailed](a.EventPairFailed),
	event[a.PairChanged](a.EventPairChanged),
	event[a.BulkProgress](a.EventBulkProgress),
	event[a.LicenseChanged](a.EventLicenseChanged),
	event[a.HealthChanged](a.EventHealthChanged),
	event[a.BackupProgress](a.EventBackupProgress),
}

// Events returns every event type with its payload type.
func Events() []EventDescriptor { return append([]EventDescriptor(nil), events...) }

// EventData returns the payload type of an event type, and whether the
// type is known.
func EventData(name string) (reflect.Type, bool) {
	for _, e := range events {
		if e.Name == name {
			return e.Data, true
		}
	}
	return nil, false
}
