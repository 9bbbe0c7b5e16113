package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// Load reads the file at path (none if path is ""), applies the
// environment (from environ, in os.Environ form) and returns the result
// with defaults for what neither set. It does not validate; call Validate.
// Errors name the file, line and key. Secrets may come from files (see
// SecretKeys and ExpandFileEnv) and list items may name environment
// variables as ${NAME}.
func Load(path string, environ []string) (Config, error) {
	return LoadProfile("", nil, path, environ)
}

// SecretKeys are the keys that hold a secret. Each can be read from a
// file instead, as containers mount secrets: the key with _file appended
// in YAML (mail.smtp.password_file: /run/secrets/smtp), or
// PORTVAKT_<KEY>_FILE in the environment (ExpandFileEnv). The file's
// content, without a final newline, is the value; setting both the key
// and its _file is an error. (An upstream's client_secret has its own
// client_secret_file.)
var SecretKeys = []string{
	"database.dsn",
	"mail.smtp.password",
	"sms.http.auth_header",
	"sms.twilio.auth_token",
	"captcha.secret",
	"secrets.key",
}

// decodeYAML decodes b over cfg, refusing unknown keys. Before that, a
// secret key's _file is replaced by the file's content, and ${NAME} in a
// list item by the environment variable NAME from environ (an unset one
// is an error): list items such as redirect URIs often differ only by
// host between environments.
func decodeYAML(b []byte, cfg *Config, environ []string) error {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return err
	}
	changed, err := prepareYAML(&root, environ)
	if err != nil {
		return err
	}
	if changed {
		if b, err = yaml.Marshal(&root); err != nil {
			return err
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// envRef is ${NAME} in a list item; a bare $ stays as it is.
var envRef = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*\}`) })

// prepareYAML rewrites secret _file keys and expands ${NAME} in list
// items, in place, and reports whether it changed anything.
func prepareYAML(root *yaml.Node, environ []string) (bool, error) {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	secrets := map[string]bool{}
	for _, k := range SecretKeys {
		secrets[k] = true
	}
	changed := false
	var errs []string
	var visit func(n *yaml.Node, path string, inList bool)
	visit = func(n *yaml.Node, path string, inList bool) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				visit(c, path, false)
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				visit(c, path+"[]", true)
			}
		case yaml.MappingNode:
			keys := map[string]bool{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				keys[n.Content[i].Value] = true
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				if base, ok := strings.CutSuffix(k.Value, "_file"); ok && secrets[strings.TrimSuffix(p, "_file")] {
					if keys[base] {
						errs = append(errs, fmt.Sprintf("line %d: %s and %s are both set; set only one", k.Line, strings.TrimSuffix(p, "_file"), p))
						continue
					}
					if v.Kind != yaml.ScalarNode || v.Value == "" {
						errs = append(errs, fmt.Sprintf("line %d: %s must be a file path", k.Line, p))
						continue
					}
					content, err := os.ReadFile(v.Value)
					if err != nil {
						errs = append(errs, fmt.Sprintf("line %d: %s: %v", k.Line, p, err))
						continue
					}
					k.Value = base
					*v = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.DoubleQuotedStyle,
						Value: strings.TrimRight(string(content), "\r\n"), Line: v.Line, Column: v.Column}
					changed = true
					continue
				}
				visit(v, p, false)
			}
		case yaml.ScalarNode:
			if !inList || !strings.Contains(n.Value, "${") {
				return
			}
			var missing []string
			out := envRef().ReplaceAllStringFunc(n.Value, func(ref string) string {
				name := ref[2 : len(ref)-1]
				v, ok := env[name]
				if !ok {
					missing = append(missing, name)
				}
				return v
			})
			if len(missing) > 0 {
				errs = append(errs, fmt.Sprintf("line %d: %s: environment variable %s is not set", n.Line, path, strings.Join(missing, ", ")))
				return
			}
			n.Value, n.Tag, n.Style = out, "!!str", yaml.DoubleQuotedStyle
			changed = true
		}
	}
	visit(root, "", false)
	if len(errs) > 0 {
		return false, errors.New(strings.Join(errs, "\n"))
	}
	return changed, nil
}

// EnvName returns the environment variable for a YAML path such as
// "database.dsn".
func EnvName(path string) string {
	return "PORTVAKT_" + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

// Keys returns every scalar key path, sorted, for documentation and tests.
func Keys() []string {
	var out []string
	walk(reflect.ValueOf(new(Config)).Elem(), "", func(path string, _ reflect.Value) {
		out = append(out, path)
	})
	sort.Strings(out)
	return out
}

func walk(v reflect.Value, prefix string, fn func(path string, f reflect.Value)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name := strings.Split(sf.Tag.Get("yaml"), ",")[0]
		if name == "" || name == "-" {
			continue
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		f := v.Field(i)
		if f.Kind() == reflect.Struct {
			walk(f, path, fn)
			continue
		}
		fn(path, f)
	}
}

func applyEnv(cfg *Config, environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "PORTVAKT_") {
			env[k] = v
		}
	}
	var errs []string
	walk(reflect.ValueOf(cfg).Elem(), "", func(path string, f reflect.Value) {
		raw, ok := env[EnvName(path)]
		if !ok {
			return
		}
		if err := setScalar(f, raw); err != nil {
			errs = append(errs, fmt.Sprintf("%s (%s): %v", EnvName(path), path, err))
		}
	})
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "\n"))
	}
	return nil
}

func setScalar(f reflect.Value, raw string) error {
	if f.Type() == reflect.TypeOf(Duration(0)) {
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("%q is not a duration such as 30m or 12h", raw)
		}
		f.SetInt(int64(d))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(raw)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", raw)
		}
		f.SetInt(n)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("%q is not true or false", raw)
		}
		f.SetBool(b)
	case reflect.Slice:
		if f.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported list type")
		}
		var items []string
		for _, s := range strings.Split(raw, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		f.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("unsupported type %s", f.Type())
	}
	return nil
}
