package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Load reads the file at path (none if path is ""), applies the
// environment (from environ, in os.Environ form) and returns the result
// with defaults for what neither set. It does not validate; call Validate.
// Errors name the file, line and key.
func Load(path string, environ []string) (Config, error) {
	cfg := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("read config: %w", err)
		}
		if err := decodeYAML(b, &cfg); err != nil {
			return cfg, fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := applyEnv(&cfg, environ); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func decodeYAML(b []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
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
