package bridge

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/askbridge/askbridge/bridge/store"
)

// Conversation is what the bridge keeps about one patron of one Page
// (see store.Conversation).
type Conversation = store.Conversation

// PendingTransfer is a !transfer whose summary may still bounce.
type PendingTransfer = store.PendingTransfer

func getConversation(tx *bolt.Tx, psid string) (*Conversation, error) {
	return store.ConversationsOf(tx).Get(psid)
}

func putConversation(tx *bolt.Tx, c *Conversation) error {
	return store.ConversationsOf(tx).Put(c)
}

// Conversation returns what the store knows of a patron, or nil.
func (s *Store) Conversation(psid string) (*Conversation, error) {
	var c *Conversation
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		c, err = getConversation(tx, psid)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bridge: reading conversation: %w", err)
	}
	return c, nil
}
