% # Which app is asking, and how far its name can be trusted: the sign-in and the consent pages both include this.
% if not client.fetched and client.local:
<p class="note" role="note" id="client-unread">This app runs on your own computer (<code>{{client.host}}</code>), so
its details were not fetched: this server never fetches addresses on your computer or its own network, since a
request could otherwise make it reach places it should not. Make sure it is an app you started yourself.</p>
% elif not client.fetched:
<p class="warning" role="note" id="client-unread">This app published no information about itself, so its name could
not be checked. Make sure the address above is the app you meant to use.</p>
% end
