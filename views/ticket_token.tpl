% rebase('base.tpl', title=title, scripts=['/static/copy.js'])
<h1>Received token</h1>
<p>Give it to the app that reads <code>{{row.resource}}</code> for you (a feed reader, a Microsub server).
It was issued by <code>{{row.issuer}}</code>{{" and works until " + row.expires_at.strftime("%Y-%m-%d %H:%M") + " UTC" if row.expires_at else ""}}.</p>
<label for="token">Access token ({{row.scope or "no scope named"}})</label>
<textarea id="token" class="token" rows="5" readonly>{{token}}</textarea>
<button type="button" class="secondary" data-copy="token" hidden>Copy token</button>
<label for="curl">Use it</label>
<textarea id="curl" class="token" rows="3" readonly>curl -H "Authorization: Bearer {{token}}" {{row.resource}}</textarea>
<button type="button" class="secondary" data-copy="curl" hidden>Copy command</button>
<p><a href="/tickets">Back to your tickets</a></p>
