% rebase('base.tpl', title=title, scripts=['/static/copy.js'])
<h1>Your testing token</h1>
<p role="status">Copy it now: it is shown only this once. Its fingerprint on the token page is
<code>{{fingerprint}}</code>.</p>
<label for="token">Access token for <code>{{row.client_id}}</code> ({{row.scope}}), until {{row.expires_at.strftime("%Y-%m-%d %H:%M")}} UTC</label>
<textarea id="token" class="token" rows="7" readonly>{{token}}</textarea>
<button type="button" class="secondary" data-copy="token" hidden>Copy token</button>
<label for="curl">Check it with the token endpoint</label>
<textarea id="curl" class="token" rows="3" readonly>curl -H "Authorization: Bearer {{token}}" {{verify_url}}</textarea>
<button type="button" class="secondary" data-copy="curl" hidden>Copy command</button>
<p><a href="/tokens">Back to your tokens</a></p>
