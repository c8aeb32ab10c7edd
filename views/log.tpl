% rebase('base.tpl', title=title)
<h1>Activity</h1>
<p class="muted">{{"Everyone's" if everyone else "Your"}} sign-ins, approvals and tokens, newest first.</p>
<div class="table-wrap"><table class="log">
  <thead><tr><th scope="col">When (UTC)</th><th scope="col">What</th><th scope="col">Who</th><th scope="col">App</th><th scope="col">From</th></tr></thead>
  <tbody>
  % for event in events:
  % d = data(event)
  <tr>
    <td data-label="When (UTC)">{{event.at.strftime("%Y-%m-%d %H:%M:%S")}}</td>
    <td data-label="What">{{event.kind.replace("_", " ")}}{{(" (" + d["method"] + ")") if d.get("method") else ""}}{{(": " + d["scope"]) if d.get("scope") else ""}}</td>
    <td data-label="Who">{{event.user.username if event.user_id else d.get("username", "—")}}</td>
    <td data-label="App">{{d.get("client_id", "")}}</td>
    <td data-label="From">{{d.get("address", "")}}</td>
  </tr>
  % end
  </tbody>
</table></div>
