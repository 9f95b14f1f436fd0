package kube

import (
	"bytes"
	"encoding/json"
	"fmt"

	"pea/internal/kube/k8s"
)

// Marshal renders objects as one YAML stream under the generated-file header. The status and
// the empty objects the API types would print (resources: {}, strategy: {}) are left out; an
// empty emptyDir: {} is kept, it means something.
func Marshal(objs []any, version string) ([]byte, error) {
	var out bytes.Buffer
	fmt.Fprintf(&out, Header, version)
	for i, obj := range objs {
		j, err := json.Marshal(obj)
		if err != nil {
			return nil, err
		}
		dec := json.NewDecoder(bytes.NewReader(j))
		dec.UseNumber()
		var tree map[string]any
		if err := dec.Decode(&tree); err != nil {
			return nil, err
		}
		delete(tree, "status") // generated objects describe, they do not report
		prune(tree)
		y := k8s.EncodeYAML(tree)
		if i > 0 {
			out.WriteString("---\n")
		}
		out.Write(y)
	}
	return out.Bytes(), nil
}

// keepEmpty are the keys whose empty object is meaningful.
var keepEmpty = map[string]bool{"emptyDir": true}

// prune drops empty objects and nulls below m, deepest first.
func prune(m map[string]any) {
	for k, v := range m {
		switch x := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			prune(x)
			if len(x) == 0 && !keepEmpty[k] {
				delete(m, k)
			}
		case []any:
			for _, e := range x {
				if em, ok := e.(map[string]any); ok {
					prune(em)
				}
			}
		}
	}
}
