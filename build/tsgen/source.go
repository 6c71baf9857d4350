package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// source is what the Go source of a package says beyond its types'
// reflection: doc comments, the order of declarations, string constants of
// named types (which become unions) and aliases.
type source struct {
	pkgPath string
	// order lists the package's type names (aliases too) as declared,
	// files in name order.
	order    []string
	typeDocs map[string]string
	// fieldDocs is keyed "Type.Field".
	fieldDocs map[string]string
	// enums holds, per named type, the values of its constants in
	// declaration order.
	enums map[string][]string
	// aliases maps an alias to the type it names in the same package.
	aliases map[string]string
}

// readSource parses the package in dir (without its tests).
func readSource(dir, pkgPath string) (*source, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	src := &source{pkgPath: pkgPath, typeDocs: map[string]string{}, fieldDocs: map[string]string{},
		enums: map[string][]string{}, aliases: map[string]string{}}
	fset := token.NewFileSet()
	parsed := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		parsed++
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok {
				continue
			}
			switch gd.Tok {
			case token.TYPE:
				src.types(gd)
			case token.CONST:
				src.consts(gd)
			}
		}
	}
	if parsed == 0 {
		return nil, fmt.Errorf("no Go files in %s", dir)
	}
	return src, nil
}

func (s *source) types(gd *ast.GenDecl) {
	for _, spec := range gd.Specs {
		ts := spec.(*ast.TypeSpec)
		if !ts.Name.IsExported() {
			continue
		}
		name := ts.Name.Name
		s.order = append(s.order, name)
		// A lone declaration's comment sits on the GenDecl; in a group,
		// on the spec.
		text := commentText(ts.Doc)
		if text == "" && len(gd.Specs) == 1 {
			text = commentText(gd.Doc)
		}
		s.typeDocs[name] = text
		if ts.Assign.IsValid() {
			if id, ok := ts.Type.(*ast.Ident); ok {
				s.aliases[name] = id.Name
			}
			continue
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			continue
		}
		for _, f := range st.Fields.List {
			text := commentText(f.Doc)
			if text == "" {
				text = commentText(f.Comment)
			}
			for _, n := range f.Names {
				s.fieldDocs[name+"."+n.Name] = text
			}
			if len(f.Names) == 0 { // embedded: named by its type
				if id := embeddedName(f.Type); id != "" {
					s.fieldDocs[name+"."+id] = text
				}
			}
		}
	}
}

func embeddedName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.StarExpr:
		return embeddedName(x.X)
	case *ast.SelectorExpr:
		return x.Sel.Name
	}
	return ""
}

// consts records string constants declared with an explicit named type of
// this package: `SideA Side = "a"`.
func (s *source) consts(gd *ast.GenDecl) {
	for _, spec := range gd.Specs {
		vs := spec.(*ast.ValueSpec)
		id, ok := vs.Type.(*ast.Ident)
		if !ok || len(vs.Values) != len(vs.Names) {
			continue
		}
		for i, n := range vs.Names {
			lit, ok := vs.Values[i].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING || !n.IsExported() {
				continue
			}
			v, err := strconv.Unquote(lit.Value)
			if err != nil {
				continue
			}
			s.enums[id.Name] = append(s.enums[id.Name], v)
		}
	}
}

// commentText is a comment group as plain text, without the markers, lines
// joined with newlines.
func commentText(g *ast.CommentGroup) string {
	if g == nil {
		return ""
	}
	return strings.TrimSpace(g.Text())
}
