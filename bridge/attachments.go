package bridge

import (
	"net/url"
	"path"
	"strings"

	"github.com/askbridge/askbridge/messenger"
)

// attachmentTypes maps file extensions to Messenger attachment types.
var attachmentTypes = map[string]string{
	".jpg": "image", ".jpeg": "image", ".png": "image", ".gif": "image", ".webp": "image",
	".mp4": "video", ".mov": "video", ".webm": "video", ".m4v": "video",
	".mp3": "audio", ".m4a": "audio", ".ogg": "audio", ".oga": "audio", ".opus": "audio", ".wav": "audio", ".aac": "audio",
	".pdf": "file", ".doc": "file", ".docx": "file", ".xls": "file", ".xlsx": "file", ".ppt": "file", ".pptx": "file",
	".txt": "file", ".csv": "file", ".odt": "file", ".ods": "file", ".epub": "file", ".zip": "file", ".rtf": "file",
}

// outgoingAttachment recognises a librarian's file share: an XEP-0066
// link, or a body that is nothing but an HTTPS link to a file (as XEP-0363
// uploads produce). It returns the Messenger attachment to send by URL, or
// nil when the message is text.
func outgoingAttachment(body, oob string) *messenger.Attachment {
	link := strings.TrimSpace(body)
	if oob != "" && (link == "" || link == oob) {
		link = oob
	}
	if strings.ContainsAny(link, " \t\n") {
		return nil
	}
	u, err := url.Parse(link)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil
	}
	typ, ok := attachmentTypes[strings.ToLower(path.Ext(u.Path))]
	if !ok {
		return nil
	}
	return &messenger.Attachment{Type: typ, URL: link}
}
