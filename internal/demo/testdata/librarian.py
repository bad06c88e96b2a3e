"""A librarian in a third-party Jabber client (slixmpp), for the demo test.

Logs in over STARTTLS (accepting the demo's self-signed certificate), comes
online, says READY once the bridge (a contact without a local part) is seen
online, waits for the first chat message, prints it as one line of JSON,
marks it displayed (XEP-0333) only if the message is markable, as Gajim,
Conversations and Dino do, and answers it with the given text.

usage: librarian.py JID PASSWORD HOST PORT ANSWER
"""
import asyncio
import json
import ssl
import sys

import slixmpp

jid, password, host, port, answer = sys.argv[1:6]


class Librarian(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(jid, password)
        self.tls = False
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.add_event_handler("ssl_cert", self.on_cert)
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)
        self.bridge_online = asyncio.Event()
        self.add_event_handler("presence_available", self.on_presence)
        self.add_event_handler("failed_auth", lambda _: self.fail("login refused"))

    def fail(self, why):
        print(json.dumps({"error": why}), flush=True)
        self.disconnect()

    def on_cert(self, _pem):
        self.tls = True

    def on_presence(self, pres):
        if not pres["from"].user:
            self.bridge_online.set()

    async def on_start(self, _event):
        self.send_presence()
        await self.get_roster()
        await asyncio.wait_for(self.bridge_online.wait(), 30)
        print("READY", flush=True)

    def on_message(self, msg):
        if msg["type"] not in ("chat", "normal") or not msg["body"]:
            return
        markable = msg.get_plugin("markable", check=True) is not None
        print(json.dumps({"from": str(msg["from"]), "body": msg["body"],
                          "nick": msg["nick"]["nick"], "tls": self.tls,
                          "markable": markable}), flush=True)
        if markable:
            self.plugin["xep_0333"].send_marker(msg["from"], msg["id"], "displayed")
        self.send_message(mto=msg["from"], mbody=answer, mtype="chat")
        asyncio.get_event_loop().call_later(1, self.disconnect)


client = Librarian()
client.register_plugin("xep_0172")  # user nickname
client.register_plugin("xep_0333")  # chat markers
client.connect((host, int(port)))
client.loop.run_until_complete(asyncio.wait_for(client.disconnected, 60))
