package xmpp

import (
	"strings"

	"mellium.im/xmpp/form"
)

// Form is an XEP-0004 data form that an ad-hoc command asks the user to
// fill in.
type Form struct {
	Title        string
	Instructions string
	Fields       []FormField
}

// FormField is one field of a Form. The form is written by mellium's
// form package, which sends only the first value of a field that is not
// of a multi type, skips empty values and boolean or JID values that are
// not ones, and joins the lines of the title.
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

// fieldTypes are mellium's constructors of the XEP-0004 field types by
// name; "fixed" takes no name.
var fieldTypes = map[string]func(string, ...form.Option) form.Field{
	"boolean": form.Boolean, "hidden": form.Hidden, "jid-multi": form.JIDMulti, "jid-single": form.JID,
	"list-multi": form.ListMulti, "list-single": form.List, "text-multi": form.TextMulti,
	"text-private": form.TextPrivate, "text-single": form.Text,
	"fixed": func(_ string, o ...form.Option) form.Field { return form.Fixed(o...) },
}

// data returns f as a mellium form of type "form", text sanitized.
func (f *Form) data() *form.Data {
	fields := []form.Field{form.Title(sanitize(f.Title)), form.Instructions(sanitize(f.Instructions))}
	for _, fl := range f.Fields {
		fields = append(fields, fl.field())
	}
	return form.New(fields...)
}

// field returns fl as a mellium form field, text sanitized.
func (fl FormField) field() form.Field {
	var opts []form.Option
	if l := sanitize(fl.Label); l != "" {
		opts = append(opts, form.Label(l))
	}
	if fl.Required {
		opts = append(opts, form.Required)
	}
	for _, v := range fl.Value {
		v = sanitize(v)
		if fl.Type != "text-multi" {
			opts = append(opts, form.Value(v))
			continue
		}
		for line := range strings.SplitSeq(v, "\n") {
			opts = append(opts, form.Value(line))
		}
	}
	for _, o := range fl.Options {
		// mellium writes the label even when empty; clients would show
		// that instead of the value.
		label := sanitize(o.Label)
		if label == "" {
			label = sanitize(o.Value)
		}
		opts = append(opts, form.ListItem(label, sanitize(o.Value)))
	}
	newField, ok := fieldTypes[fl.Type]
	if !ok {
		newField = form.Text
	}
	return newField(sanitize(fl.Var), opts...)
}
