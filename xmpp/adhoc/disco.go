package adhoc

import (
	"mellium.im/xmpp/disco"
	"mellium.im/xmpp/disco/info"
	"mellium.im/xmpp/disco/items"
	"mellium.im/xmpp/form"
	"mellium.im/xmpp/jid"
)

// Service discovery of commands (XEP-0050 §2): the entity lists its
// commands as the items of the node NS, and each command is a node of its
// own.
var (
	// ListIdentity is the identity of the node NS.
	ListIdentity = info.Identity{Category: "automation", Type: "command-list", Name: "Commands"}
	// ListFeatures are the features of the node NS.
	ListFeatures = []info.Feature{{Var: disco.NSInfo}, {Var: disco.NSItems}}
	// NodeFeatures are the features of a command's node.
	NodeFeatures = []info.Feature{{Var: NS}, {Var: form.NS}}
)

// Identity is the identity of the command's node.
func (c Command) Identity() info.Identity {
	return info.Identity{Category: "automation", Type: "command-node", Name: c.Name}
}

// Item is the command as an item of the node NS of the entity at.
func (c Command) Item(at jid.JID) items.Item {
	return items.Item{JID: at, Node: c.Node, Name: c.Name}
}
