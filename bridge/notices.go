package bridge

import (
	"errors"

	"github.com/askbridge/askbridge/messenger"
)

// Plain-language reasons shown to librarians when a reply cannot reach the
// patron. They are chosen by Graph error code, never by Facebook's
// (localized) message text.
const (
	reasonWindow = "Facebook allows replies only within 24 hours of the patron's last message; the patron has to write again."
	reasonGone   = "the patron cannot be reached on Messenger any more (they may have blocked the Page or deleted their account)."
	reasonOther  = "another app or a person in the Facebook Page inbox controls this conversation right now; answer there or ask them to pass it back."
	reasonToken  = "the Page's access token is no longer valid; ask the askbridge administrator to renew it, then send the reply again."
	reasonPerm   = "the Facebook app lacks the permission to message for this Page; ask the askbridge administrator."
	reasonParam  = "Facebook refused the message as malformed (error 100); try rephrasing it, or ask the askbridge administrator."
	reasonRetry  = "Facebook did not accept the reply for 30 minutes; it may be having problems. Please try again later."
	reasonNoPage = "this conversation's Facebook Page is no longer configured."
	reasonLimit  = "Facebook has temporarily restricted the library's Page from sending messages (error 10/1893063), for example after messages were reported as spam. This reply was not sent; the restriction usually ends by itself — ask the askbridge administrator to check the Page's quality in the Facebook Page settings."
)

// Failures the bridge decides itself, without calling the Send API.
var (
	errPageGone     = errors.New("the conversation's Page is no longer configured")
	errTokenRefused = errors.New("Facebook refused the Page's access token before")
)

// undeliveredReason explains a Send API failure to a librarian.
func undeliveredReason(err error) string {
	var ge *messenger.GraphError
	switch {
	case errors.Is(err, errPageGone):
		return reasonNoPage
	case errors.Is(err, errTokenRefused):
		return reasonToken
	}
	if errors.Is(err, messenger.ErrInvalidMessage) {
		return "the bridge could not turn this message into a Facebook message (" + err.Error() + ")."
	}
	if !errors.As(err, &ge) {
		return reasonRetry
	}
	switch {
	case ge.OutsideWindow():
		return reasonWindow
	case ge.PageRestricted():
		return reasonLimit
	case ge.RecipientUnavailable(), ge.Code == 200 && ge.Subcode == 1545041:
		return reasonGone
	case ge.Code == 10 && (ge.Subcode == 2018108 || ge.Subcode == 2018300):
		return reasonOther
	case ge.TokenInvalid():
		return reasonToken
	case ge.Code == 10, ge.Code == 200:
		return reasonPerm
	case ge.Code == 100:
		return reasonParam
	case ge.Retryable():
		return reasonRetry
	}
	return "Facebook refused the reply (" + errorCode(err) + ")."
}
