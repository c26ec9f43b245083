package credsvc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// errDuplicateKey means a JSON object holds a key twice, or two keys that
// differ only in case (encoding/json would let the last one win, and
// matches field names without regard to case).
var errDuplicateKey = errors.New("duplicate key")

// checkKeys walks the first JSON value of body token by token and refuses
// an object that holds the same key twice, also in different case. Syntax
// errors are left to the decoder that follows; body is bounded by maxBody,
// and so is the walk.
func checkKeys(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	// One frame per open object or array: the keys seen in an object
	// (nil for an array) and whether the next token is a key.
	type frame struct {
		keys     map[string]bool
		wantsKey bool
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // a syntax error: the decoder reports it
		}
		top := len(stack) - 1
		if top >= 0 && stack[top].keys != nil && stack[top].wantsKey {
			if k, ok := tok.(string); ok {
				folded := strings.ToLower(k)
				if stack[top].keys[folded] {
					return fmt.Errorf("%w %s (keys must differ also without regard to case)", errDuplicateKey, strconv.Quote(k))
				}
				stack[top].keys[folded] = true
				stack[top].wantsKey = false
				continue
			}
		}
		if top >= 0 && stack[top].keys != nil {
			stack[top].wantsKey = true // after a value comes a key or '}'
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{keys: make(map[string]bool), wantsKey: true})
		case json.Delim('['):
			stack = append(stack, frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:top]
			if len(stack) > 0 && stack[len(stack)-1].keys != nil {
				stack[len(stack)-1].wantsKey = true
			}
		}
		if len(stack) == 0 {
			return nil
		}
	}
}
