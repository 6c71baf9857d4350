package syncer

import (
	"context"
	"fmt"
	"strings"

	"github.com/lockstep-sync/lockstep/shared/apitype"
	"go.yaml.in/yaml/v3"
)

// DocumentVersion is the version of the export format this build writes.
const DocumentVersion = 1

// Document is the export of one or more processes: YAML a person can
// review in git. Systems are named, not numbered, so a document moves
// between agents whose systems have the same names.
type Document struct {
	Version   int       `yaml:"version"`
	Kind      string    `yaml:"kind"`
	Processes []Process `yaml:"processes"`
}

const documentKind = "lockstep/sync-processes"

// Export writes processes (all when ids is empty) as YAML.
func (s *Processes) Export(ids []string) ([]byte, error) {
	var list []Process
	if len(ids) == 0 {
		all, err := s.List()
		if err != nil {
			return nil, err
		}
		list = all
	} else {
		for _, id := range ids {
			p, err := s.Get(id)
			if err != nil {
				return nil, err
			}
			list = append(list, p)
		}
	}
	names, err := s.systemNames()
	if err != nil {
		return nil, err
	}
	doc := Document{Version: DocumentVersion, Kind: documentKind}
	for _, p := range list {
		p.ID, p.Active = "", false // an import decides activation itself
		p.A.System, p.B.System = names[p.A.System], names[p.B.System]
		doc.Processes = append(doc.Processes, p)
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode sync processes: %w", err)
	}
	return append([]byte("# Lockstep sync processes. Import with processes.import.\n"), out...), nil
}

// ImportResult says what an import did (shared/apitype).
type ImportResult = apitype.ImportResult

// Import validates every process of a document before changing anything;
// then each is created, or updated when a process of that name exists.
func (s *Processes) Import(ctx context.Context, actor string, data []byte) (ImportResult, error) {
	if len(data) > 4<<20 {
		return ImportResult{}, &ValidationError{Errors: []FieldError{{Field: "document", Message: "is larger than 4 MiB"}}}
	}
	var doc Document
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return ImportResult{}, &ValidationError{Errors: []FieldError{{Field: "document", Message: "is not a process document: " + err.Error()}}}
	}
	var errs []FieldError
	if doc.Version != DocumentVersion {
		errs = append(errs, FieldError{Field: "version", Message: fmt.Sprintf("%d is not supported (this agent reads %d)", doc.Version, DocumentVersion)})
	}
	if doc.Kind != documentKind {
		errs = append(errs, FieldError{Field: "kind", Message: "must be " + documentKind})
	}
	if len(doc.Processes) == 0 {
		errs = append(errs, FieldError{Field: "processes", Message: "is empty"})
	}
	names, err := s.systemNames()
	if err != nil {
		return ImportResult{}, err
	}
	byName := map[string]string{}
	for id, n := range names {
		byName[strings.ToLower(n)] = id
	}
	existing, err := s.List()
	if err != nil {
		return ImportResult{}, err
	}
	procByName := map[string]Process{}
	for _, p := range existing {
		procByName[strings.ToLower(p.Name)] = p
	}
	seen := map[string]bool{}
	for i := range doc.Processes {
		p := &doc.Processes[i]
		path := fmt.Sprintf("processes[%d]", i)
		if seen[strings.ToLower(p.Name)] {
			errs = append(errs, FieldError{Field: path + ".name", Message: "appears twice in the document"})
		}
		seen[strings.ToLower(p.Name)] = true
		for _, end := range []struct {
			field string
			sys   *string
		}{{path + ".a.system", &p.A.System}, {path + ".b.system", &p.B.System}} {
			if id, ok := byName[strings.ToLower(*end.sys)]; ok {
				*end.sys = id
			} else if _, ok := names[*end.sys]; !ok {
				errs = append(errs, FieldError{Field: end.field, Message: fmt.Sprintf("no system named %q on this agent", *end.sys)})
			}
		}
		if old, ok := procByName[strings.ToLower(p.Name)]; ok {
			p.ID = old.ID
		}
		if err := s.Validate(ctx, p); err != nil {
			if ve, ok := err.(*ValidationError); ok {
				for _, fe := range ve.Errors {
					errs = append(errs, FieldError{Field: path + "." + fe.Field, Message: fe.Message})
				}
			} else {
				errs = append(errs, FieldError{Field: path, Message: err.Error()})
			}
		}
	}
	if len(errs) > 0 {
		return ImportResult{}, &ValidationError{Errors: errs}
	}
	var res ImportResult
	for _, p := range doc.Processes {
		if p.ID != "" {
			if _, err := s.Update(ctx, actor, p); err != nil {
				return res, err
			}
			res.Updated = append(res.Updated, p.Name)
			continue
		}
		if _, err := s.Create(ctx, actor, p); err != nil {
			return res, err
		}
		res.Created = append(res.Created, p.Name)
	}
	return res, nil
}
