% rebase('base.tpl', title=title)
<h1>Your tokens</h1>
% if revoked:
<p role="status">Revoked {{revoked}} token{{"" if revoked == "1" else "s"}}.</p>
% end
<p><a class="button" href="/tokens/new">New testing token</a></p>
% if not clients:
<p>No app holds a token of yours right now.</p>
% end
% for client_id, tokens in clients.items():
<section class="client" aria-labelledby="c-{{tokens[0].jti}}">
  <h2 id="c-{{tokens[0].jti}}"><code>{{client_id}}</code></h2>
  <div class="table-wrap"><table>
    <thead><tr><th scope="col">Token</th><th scope="col">Scopes</th><th scope="col">Issued</th>
      <th scope="col">Last used</th><th scope="col">Expires</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
    <tbody>
    % for token in tokens:
      <tr>
        <td><code title="start of the token's SHA-256">{{fingerprint(token)}}</code><br>
          <span class="muted">{{token.kind}}, {{"testing token" if token.via == "testing" else "from a ticket you sent" if token.via == "ticket" else "sign-in flow"}}</span>
          % if token.resource:
          <br><span class="muted">for <code>{{token.me}}</code> to use <code>{{token.resource}}</code></span>
          % end
        </td>
        <td data-label="Scopes">{{token.scope or "—"}}</td>
        <td data-label="Issued">{{token.created_at.strftime("%Y-%m-%d %H:%M")}}</td>
        <td data-label="Last used">{{token.last_used_at.strftime("%Y-%m-%d %H:%M") if token.last_used_at else "never"}}</td>
        <td data-label="Expires">{{token.expires_at.strftime("%Y-%m-%d %H:%M") if token.expires_at else "never"}}</td>
        <td>
          <form method="post" action="/tokens/revoke">
            <input type="hidden" name="csrf_token" value="{{csrf_token}}">
            <input type="hidden" name="what" value="token">
            <input type="hidden" name="target" value="{{token.jti}}">
            <button type="submit" class="small secondary" aria-label="Revoke token {{fingerprint(token)}}">Revoke</button>
          </form>
        </td>
      </tr>
    % end
    </tbody>
  </table></div>
  <form method="post" action="/tokens/revoke">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <input type="hidden" name="what" value="client">
    <input type="hidden" name="target" value="{{client_id}}">
    <button type="submit" class="secondary">Revoke everything of this app</button>
  </form>
</section>
% end
% if clients:
<form method="post" action="/tokens/revoke">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <input type="hidden" name="what" value="all">
  <button type="submit" class="secondary">Revoke all my tokens</button>
</form>
% end
<h2>Remembered approvals</h2>
% if not grants:
<p>None: every app asks before it gets access.</p>
% else:
<ul class="grants">
% for grant in grants:
  <li><code>{{grant.client_id}}</code> may have <em>{{grant.scope or "your profile URL"}}</em> without asking.
    <form class="inline" method="post" action="/tokens/forget">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}">
      <input type="hidden" name="client_id" value="{{grant.client_id}}">
      <button type="submit" class="link">Forget</button>
    </form></li>
% end
</ul>
% end
