% rebase('base.tpl', title=title, scripts=scripts)
<h1>Passkeys</h1>
% if done == "added":
<p role="status">Your new passkey is saved. You can sign in with it now.</p>
% elif done == "renamed":
<p role="status">The passkey was renamed.</p>
% elif done == "removed":
<p role="status">The passkey was removed: it no longer signs you in.</p>
% end
<p>A passkey signs you in with this device's screen lock, your phone or a security key, instead of a
password. It stays on your device; this server keeps only its public key.</p>

<h2>Your passkeys</h2>
% if passkeys:
<div class="table-wrap">
<table id="passkeys-list">
  <thead><tr><th scope="col">Name</th><th scope="col">Added</th><th scope="col">Last used</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
  <tbody>
  % for passkey in passkeys:
  <tr>
    <td>{{passkey["name"]}}</td>
    <td>{{passkey["created"][:16].replace("T", " ")}} UTC</td>
    <td>{{(passkey["last_used"][:16].replace("T", " ") + " UTC") if passkey["last_used"] else "never"}}</td>
    <td><div class="actions"><a href="/plugins/passkeys/rename?id={{passkey['id']}}">Rename<span class="visually-hidden"> {{passkey["name"]}}</span></a>
      <a href="/plugins/passkeys/remove?id={{passkey['id']}}">Remove<span class="visually-hidden"> {{passkey["name"]}}</span></a></div></td>
  </tr>
  % end
  </tbody>
</table>
</div>
% else:
<p id="passkeys-none">You have no passkeys yet.</p>
% end

<h2>Add a passkey</h2>
<form id="passkeys-add" method="post" action="/plugins/passkeys/register/verify" data-options="/plugins/passkeys/register/options">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <input type="hidden" name="credential" value="">
  <p class="error" id="passkeys-add-error" role="alert" hidden></p>
  <label for="passkeys-name">Name (to tell your passkeys apart)</label>
  <input type="text" id="passkeys-name" name="name" maxlength="{{max_name}}" autocomplete="off"
         aria-describedby="passkeys-name-hint">
  <p class="muted" id="passkeys-name-hint">For example “Laptop” or “Phone”. Optional.</p>
  <noscript><p class="warning" id="passkeys-noscript">Adding a passkey needs JavaScript, which is off in this
  browser. Turn it on to add one; meanwhile, sign in another way.</p></noscript>
  <div hidden><button type="submit" id="passkeys-add-button">Add a passkey</button></div>
</form>
% if required:
<p class="warning">This server asks for a passkey every time you sign in: keep at least one.</p>
% end
