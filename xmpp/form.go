package xmpp

import (
	"encoding/xml"
	"strings"
)

// Form is an XEP-0004 data form that an ad-hoc command asks the user to
// fill in.
type Form struct {
	Title        string
	Instructions string
	Fields       []FormField
}

// FormField is one field of a Form.
type FormField struct {
	// Var names the field; the submitted values come back under it in
	// CommandRequest.Values. Fields of type "fixed" need none.
	Var   string
	Label string
	// Type is an XEP-0004 field type: "text-single" (the default),
	// "text-multi", "text-private", "list-single", "list-multi",
	// "boolean", "fixed", "hidden", "jid-single" or "jid-multi".
	// Unknown types are sent as text-single.
	Type     string
	Required bool
	// Value holds the default (or, for "fixed" and "hidden", the only)
	// values. A text-multi value with line breaks is sent as one value per
	// line, as XEP-0004 wants.
	Value []string
	// Options are the choices of a list-single or list-multi field.
	Options []FormOption
}

// FormOption is one choice of a list field: the label shown and the value
// submitted.
type FormOption struct {
	Label string
	Value string
}

// encodeForm returns f as an XEP-0004 form (<x xmlns='jabber:x:data'
// type='form'/>), text sanitized.
func encodeForm(f *Form) []xml.Token {
	var inner [][]xml.Token
	if t := sanitize(f.Title); t != "" {
		inner = append(inner, textElem(xml.Name{Local: "title"}, t))
	}
	if t := sanitize(f.Instructions); t != "" {
		for line := range strings.SplitSeq(t, "\n") {
			inner = append(inner, textElem(xml.Name{Local: "instructions"}, line))
		}
	}
	for _, fl := range f.Fields {
		inner = append(inner, encodeField(fl))
	}
	return wrap(xml.StartElement{Name: xml.Name{Space: nsData, Local: "x"}, Attr: []xml.Attr{attr("type", "form")}}, inner...)
}

func encodeField(fl FormField) []xml.Token {
	var attrs []xml.Attr
	if v := sanitize(fl.Var); v != "" {
		attrs = append(attrs, attr("var", v))
	}
	if l := sanitize(fl.Label); l != "" {
		attrs = append(attrs, attr("label", l))
	}
	if formFieldTypes[fl.Type] {
		attrs = append(attrs, attr("type", fl.Type))
	}
	var inner [][]xml.Token
	if fl.Required {
		inner = append(inner, emptyElem(xml.Name{Local: "required"}))
	}
	for _, v := range fl.Value {
		v = sanitize(v)
		if fl.Type == "text-multi" {
			for line := range strings.SplitSeq(v, "\n") {
				inner = append(inner, textElem(xml.Name{Local: "value"}, line))
			}
			continue
		}
		inner = append(inner, textElem(xml.Name{Local: "value"}, v))
	}
	for _, o := range fl.Options {
		var oa []xml.Attr
		if l := sanitize(o.Label); l != "" {
			oa = append(oa, attr("label", l))
		}
		inner = append(inner, wrap(xml.StartElement{Name: xml.Name{Local: "option"}, Attr: oa},
			textElem(xml.Name{Local: "value"}, sanitize(o.Value))))
	}
	return wrap(xml.StartElement{Name: xml.Name{Local: "field"}, Attr: attrs}, inner...)
}

// dataFormXML is what the component reads of a submitted XEP-0004 form.
type dataFormXML struct {
	Type   string `xml:"type,attr"`
	Fields []struct {
		Var    string   `xml:"var,attr"`
		Values []string `xml:"value"`
	} `xml:"field"`
}

// values returns the submitted values by field name (never nil), leaving
// out fields without a name.
func (x *dataFormXML) values() map[string][]string {
	v := make(map[string][]string, len(x.Fields))
	for _, f := range x.Fields {
		if f.Var == "" {
			continue
		}
		v[f.Var] = append(v[f.Var], f.Values...)
	}
	return v
}
