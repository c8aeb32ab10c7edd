% rebase('base.tpl', title=title)
<h1>Tickets</h1>
<p>A ticket gives someone access to something of yours (private posts, a private feed) without them asking
first: their server redeems it for a token. Others can send you tickets too; the tokens they give are kept
here for you. <a href="/docs#tickets">How tickets work</a></p>
% if notice:
<p role="status">{{notice}}</p>
% end

<h2 id="received">Tokens you received</h2>
% if not received:
<p>None yet. When someone sends your site a ticket, the token it gives you appears here.</p>
% else:
<div class="table-wrap"><table aria-labelledby="received">
  <thead><tr><th scope="col">Resource</th><th scope="col">From</th><th scope="col">Scopes</th>
    <th scope="col">Received</th><th scope="col">Expires</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
  <tbody>
  % for token in received:
    <tr>
      <td><code>{{token.resource}}</code></td>
      <td data-label="From"><code>{{token.issuer}}</code></td>
      <td data-label="Scopes">{{token.scope or "—"}}</td>
      <td data-label="Received">{{token.created_at.strftime("%Y-%m-%d %H:%M")}}</td>
      <td data-label="Expires">{{("expired " if token.expires_at <= now else "") + token.expires_at.strftime("%Y-%m-%d %H:%M") if token.expires_at else "not said"}}</td>
      <td>
        <form class="inline wrap" method="post" action="/tickets/received">
          <input type="hidden" name="csrf_token" value="{{csrf_token}}">
          <input type="hidden" name="id" value="{{token.id}}">
          <button type="submit" name="action" value="show" class="small secondary" aria-label="Show the token for {{token.resource}}">Show</button>
          <button type="submit" name="action" value="delete" class="small secondary" aria-label="Delete the token for {{token.resource}}">Delete</button>
        </form>
      </td>
    </tr>
  % end
  </tbody>
</table></div>
% end

<h2 id="send">Send a ticket</h2>
% if error:
<p class="error" id="ticket-error" role="alert">{{error}}</p>
% end
<form id="send-ticket" method="post" action="/tickets/send">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <label for="subject">Who gets access: their site's URL</label>
  <input type="url" id="subject" name="subject" value="{{values.get('subject', '')}}" required
         placeholder="https://friend.example/" autocomplete="url"{{!' aria-describedby="ticket-error" aria-invalid="true"' if error else ''}}>
  <label for="resource">To what: the URL of the page or feed</label>
  <input type="url" id="resource" name="resource" value="{{values.get('resource', '')}}" required
         placeholder="https://you.example/private/" autocomplete="off">
  <label for="scope">Scopes, separated by spaces</label>
  <input type="text" id="scope" name="scope" value="{{values.get('scope', '') or 'read'}}" autocomplete="off">
  <div class="actions"><button type="submit">Send the ticket</button></div>
</form>

<h2 id="sent">Tickets you sent</h2>
% if not sent:
<p>None yet.</p>
% else:
<div class="table-wrap"><table aria-labelledby="sent">
  <thead><tr><th scope="col">To</th><th scope="col">For</th><th scope="col">Scopes</th><th scope="col">Sent</th>
    <th scope="col">State</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
  <tbody>
  % for ticket in sent:
    % token = live.get(ticket.family)
    <tr>
      <td><code>{{ticket.subject}}</code></td>
      <td data-label="For"><code>{{ticket.resource}}</code></td>
      <td data-label="Scopes">{{ticket.scope}}</td>
      <td data-label="Sent">{{ticket.created_at.strftime("%Y-%m-%d %H:%M")}}</td>
      <td data-label="State">{{"token in use until " + token.expires_at.strftime("%Y-%m-%d") if token and token.expires_at else "token in use" if token else "ended" if ticket.used_at else "expired unused" if ticket.expires_at <= now else "waiting to be redeemed"}}</td>
      <td>
        % if token or (not ticket.used_at and ticket.expires_at > now):
        <form method="post" action="/tickets/revoke">
          <input type="hidden" name="csrf_token" value="{{csrf_token}}">
          <input type="hidden" name="id" value="{{ticket.id}}">
          <button type="submit" class="small secondary" aria-label="Revoke the ticket to {{ticket.subject}}">Revoke</button>
        </form>
        % end
      </td>
    </tr>
  % end
  </tbody>
</table></div>
% end
