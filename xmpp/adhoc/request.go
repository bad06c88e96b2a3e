package adhoc

import (
	"encoding/xml"
	"fmt"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/form"
)

// commandXML is what the Responder reads of a <command/> request.
type commandXML struct {
	Node      string          `xml:"node,attr"`
	Action    string          `xml:"action,attr"`
	SessionID string          `xml:"sessionid,attr"`
	Forms     []submittedForm `xml:"jabber:x:data x"`
}

// submittedForm is a form in a request: mellium's form.Data, which keeps
// its type to itself, and that type.
type submittedForm struct {
	typ  form.Type
	data form.Data
}

// UnmarshalXML implements xml.Unmarshaler.
func (f *submittedForm) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	for _, a := range start.Attr {
		if a.Name.Local == "type" && a.Name.Space == "" {
			f.typ = form.Type(a.Value)
		}
	}
	if err := f.data.UnmarshalXML(d, start); err != nil {
		return fmt.Errorf("adhoc: submitted form: %w", err)
	}
	return nil
}

// values returns the submitted values by field name (never nil), leaving
// out fields without a name.
func (f *submittedForm) values() map[string][]string {
	v := make(map[string][]string, f.data.Len())
	f.data.ForFields(func(fd form.FieldData) {
		if fd.Var != "" {
			v[fd.Var] = append(v[fd.Var], fd.Raw...)
		}
	})
	return v
}

// decodeCommand reads the <command/> request that starts with start, read
// from r already.
func decodeCommand(r xml.TokenReader, start *xml.StartElement) (commandXML, error) {
	var c commandXML
	d := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(start.Copy()), r))
	if err := d.Decode(&c); err != nil {
		return commandXML{}, fmt.Errorf("adhoc: decoding a command request: %w", err)
	}
	return c, nil
}

// action returns the request's action and submitted values: a form of
// type "cancel" cancels, one of type "submit" (or none) carries values.
func (c *commandXML) action() (Action, map[string][]string) {
	action := Action(c.Action)
	var values map[string][]string
	if len(c.Forms) > 0 {
		switch c.Forms[0].typ {
		case form.TypeCancel:
			action = Cancel
		case form.TypeSubmit, "":
			values = c.Forms[0].values()
		}
	}
	if action == "" {
		action = Execute
	}
	return action, values
}
