package config

import (
	"reflect"
	"strconv"
	"strings"
	"unicode"
)

// Changed returns the keys of the settings that differ between a and b, in
// the order of the fields of Config, each as the path of YAML keys that
// sets it: "realm", "relay.ports", "interfaces.external.advertised",
// "listeners[1].tls.cert_file". A section set in one and absent in the
// other is one key ("credential_service"), and so is a list of sections
// whose lengths differ ("listeners"); a list of values is compared whole
// ("peers.allow"), an empty list being equal to an absent one. Every
// field of every section is compared, so a key added to Config is
// reported without anyone listing it. Changed names keys, never values:
// its result is safe to log.
func Changed(a, b *Config) []string {
	var keys []string
	changed(reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem(), "", &keys)
	return keys
}

// changed appends to keys the keys under path (a section's, "" at the top)
// whose values differ between a and b, both of the same section type.
func changed(a, b reflect.Value, path string, keys *[]string) {
	for i := range a.NumField() {
		name, ok := keyName(a.Type().Field(i))
		if !ok {
			continue
		}
		changedValue(a.Field(i), b.Field(i), joinKey(path, name), keys)
	}
}

// changedValue appends to keys key, or the keys under it, when a and b
// differ.
func changedValue(a, b reflect.Value, key string, keys *[]string) {
	t := a.Type()
	switch {
	case isSection(t):
		changed(a, b, key, keys)
	case t.Kind() == reflect.Pointer && isSection(t.Elem()):
		switch {
		case a.IsNil() && b.IsNil():
		case a.IsNil() || b.IsNil():
			addKey(keys, key)
		default:
			changed(a.Elem(), b.Elem(), key, keys)
		}
	case t.Kind() == reflect.Slice && isSection(t.Elem()):
		if a.Len() != b.Len() {
			addKey(keys, key)
			return
		}
		for i := range a.Len() {
			changed(a.Index(i), b.Index(i), key+"["+strconv.Itoa(i)+"]", keys)
		}
	case !sameValue(a, b):
		addKey(keys, key)
	}
}

// sameValue reports whether the values of a key are equal: lists of the
// same length with equal elements (nil and empty are the same), other
// values deeply equal.
func sameValue(a, b reflect.Value) bool {
	if a.Kind() != reflect.Slice {
		return reflect.DeepEqual(a.Interface(), b.Interface())
	}
	if a.Len() != b.Len() {
		return false
	}
	for i := range a.Len() {
		if !reflect.DeepEqual(a.Index(i).Interface(), b.Index(i).Interface()) {
			return false
		}
	}
	return true
}

// addKey appends key unless it was the last one appended: two fields set
// by one key (relay.ports) make one key.
func addKey(keys *[]string, key string) {
	if n := len(*keys); n > 0 && (*keys)[n-1] == key {
		return
	}
	*keys = append(*keys, key)
}

// isSection reports whether t is a section of the configuration (a struct
// of this package), whose fields are keys, rather than a value.
func isSection(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && t.PkgPath() == reflect.TypeFor[Config]().PkgPath()
}

// keyName returns the YAML key of a section's field: its `key` tag, else
// its JSON name, else its name in snake case (MaxTTL: max_ttl). ok is
// false for a field that no key sets (unexported, or tagged `key:"-"`).
func keyName(f reflect.StructField) (name string, ok bool) {
	if !f.IsExported() {
		return "", false
	}
	if k, set := f.Tag.Lookup("key"); set {
		return k, k != "-"
	}
	if j, _, _ := strings.Cut(f.Tag.Get("json"), ","); j != "" && j != "-" {
		return j, true
	}
	return snakeCase(f.Name), true
}

// snakeCase turns a Go field name into a YAML key: "NonceLifetime" is
// "nonce_lifetime", "UDPPort" "udp_port", "MSTurn" "ms_turn".
func snakeCase(name string) string {
	r := []rune(name)
	var b strings.Builder
	for i, c := range r {
		if i > 0 && unicode.IsUpper(c) &&
			(!unicode.IsUpper(r[i-1]) || i+1 < len(r) && unicode.IsLower(r[i+1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// joinKey returns the key name under the section at path.
func joinKey(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
