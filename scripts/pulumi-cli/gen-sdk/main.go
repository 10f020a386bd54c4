// Command gen-sdk writes the defang provider's language SDKs from its package schema, with
// Pulumi's own code generators (pkg/v3 codegen/nodejs, python and go) at the version the pinned
// CLI is built from. No language host and no plugin download is involved: the schema is bound
// with a loader that refuses external packages (ours refers to none).
//
//	gen-sdk -schema schema.json -out sdk            # writes sdk/nodejs, sdk/python, sdk/go
//	gen-sdk -schema schema.json -out /tmp/x -lang go
//
// Each language directory is replaced whole, so a file the generators stop writing goes away.
// scripts/gen-sdk.sh builds and runs it; the drift test compares its output with sdk/.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/blang/semver"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// tool names the generator in the "do not edit" header of every generated file.
const tool = "pulumi-gen-defang"

// noExternalPackages is the schema loader: the defang schema refers to no other package, so any
// request for one is a mistake in the schema, reported as such.
type noExternalPackages struct{}

func (noExternalPackages) refuse(name string) error {
	return fmt.Errorf("schema.json refers to the package %q: the defang SDKs must not depend on other packages", name)
}

func (l noExternalPackages) LoadPackage(pkg string, _ *semver.Version) (*schema.Package, error) {
	return nil, l.refuse(pkg)
}

func (l noExternalPackages) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, l.refuse(d.Name)
}

func (l noExternalPackages) LoadPackageReference(pkg string, _ *semver.Version) (schema.PackageReference, error) {
	return nil, l.refuse(pkg)
}

func (l noExternalPackages) LoadPackageReferenceV2(
	_ context.Context, d *schema.PackageDescriptor,
) (schema.PackageReference, error) {
	return nil, l.refuse(d.Name)
}

// bind parses and validates the schema. Each generator gets a package of its own, because
// generators record their language's settings in it.
func bind(raw []byte) (*schema.Package, error) {
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return nil, fmt.Errorf("schema is not valid JSON: %w", err)
	}
	pkg, diags, err := schema.BindSpec(spec, noExternalPackages{}, schema.ValidationOptions{})
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return nil, fmt.Errorf("schema is not valid: %s", diags.Error())
	}
	return pkg, nil
}

func generate(lang string, pkg *schema.Package) (map[string][]byte, error) {
	loader := noExternalPackages{}
	switch lang {
	case "nodejs":
		return nodejs.GeneratePackage(tool, pkg, nil, nil, false, loader)
	case "python":
		return python.GeneratePackage(tool, pkg, nil, loader)
	case "go":
		return gogen.GeneratePackage(tool, pkg, nil)
	}
	return nil, fmt.Errorf("unknown language %q (nodejs, python, go)", lang)
}

// write replaces dir with exactly the generated files.
func write(dir string, files map[string][]byte) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

func run() error {
	schemaPath := flag.String("schema", "schema.json", "the package schema")
	out := flag.String("out", "sdk", "where to write <out>/<language>/")
	langs := flag.String("lang", "nodejs,python,go", "comma-separated languages")
	flag.Parse()
	raw, err := os.ReadFile(*schemaPath)
	if err != nil {
		return err
	}
	for _, lang := range strings.Split(*langs, ",") {
		pkg, err := bind(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", *schemaPath, err)
		}
		files, err := generate(lang, pkg)
		if err != nil {
			return fmt.Errorf("generating the %s SDK: %w", lang, err)
		}
		dir := filepath.Join(*out, lang)
		if err := write(dir, files); err != nil {
			return fmt.Errorf("writing %s: %w", dir, err)
		}
		fmt.Fprintf(os.Stderr, "gen-sdk: %s: %d files in %s\n", lang, len(files), dir)
	}
	return nil
}

func main() {
	if err := run(); err != nil {
		var unwrapped interface{ Unwrap() []error }
		if errors.As(err, &unwrapped) {
			for _, e := range unwrapped.Unwrap() {
				fmt.Fprintln(os.Stderr, "gen-sdk:", e)
			}
		} else {
			fmt.Fprintln(os.Stderr, "gen-sdk:", err)
		}
		os.Exit(1)
	}
}
