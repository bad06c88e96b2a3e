package jabberclient

import (
	"encoding/xml"
	"sort"
	"strings"
)

// xmlNS is the namespace bound to the xml: prefix.
const xmlNS = "http://www.w3.org/XML/1998/namespace"

// rawXML serialises tokens (already namespace-resolved by encoding/xml) back
// to XML text, declaring a default namespace only where it changes and
// writing attributes sorted by name (servers do not keep their order), so
// that tests can assert on it. It is for assertions, not for sending.
func rawXML(toks []xml.Token) string {
	var b strings.Builder
	var stack []string // default namespace of each open element
	for _, t := range toks {
		switch t := t.(type) {
		case xml.StartElement:
			parent := ""
			if len(stack) > 0 {
				parent = stack[len(stack)-1]
			}
			b.WriteString("<" + t.Name.Local)
			if t.Name.Space != parent {
				b.WriteString(` xmlns="`)
				escape(&b, t.Name.Space)
				b.WriteString(`"`)
			}
			type kv struct{ k, v string }
			var attrs []kv
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue // declarations are rewritten above
				}
				k := a.Name.Local
				if a.Name.Space == xmlNS {
					k = "xml:" + k
				}
				attrs = append(attrs, kv{k, a.Value})
			}
			sort.SliceStable(attrs, func(i, j int) bool { return attrs[i].k < attrs[j].k })
			for _, a := range attrs {
				b.WriteString(" " + a.k + `="`)
				escape(&b, a.v)
				b.WriteString(`"`)
			}
			b.WriteString(">")
			stack = append(stack, t.Name.Space)
		case xml.EndElement:
			b.WriteString("</" + t.Name.Local + ">")
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			escape(&b, string(t))
		}
	}
	return b.String()
}

func escape(b *strings.Builder, s string) {
	_ = xml.EscapeText(b, []byte(s))
}
