package bridge

import (
	"fmt"

	"github.com/askbridge/askbridge/bridge/store"
)

// Conversation is what the bridge keeps about one patron of one Page
// (see store.Conversation).
type Conversation = store.Conversation

// PendingTransfer is a !transfer whose summary may still bounce.
type PendingTransfer = store.PendingTransfer

func getConversation(tx *store.Tx, psid string) (*Conversation, error) {
	return tx.Conversations().Get(psid)
}

func putConversation(tx *store.Tx, c *Conversation) error {
	return tx.Conversations().Put(c)
}

// Conversation returns what the store knows of a patron, or nil.
func (s *Store) Conversation(psid string) (*Conversation, error) {
	var c *Conversation
	err := s.view(func(tx *store.Tx) error {
		var err error
		c, err = getConversation(tx, psid)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bridge: reading conversation: %w", err)
	}
	return c, nil
}
