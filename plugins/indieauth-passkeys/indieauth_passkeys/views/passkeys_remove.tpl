% rebase('base.tpl', title=title)
<h1>Remove a passkey</h1>
<p>Remove <strong>{{passkey["name"]}}</strong> (added {{passkey["created"][:10]}})? It will no longer sign you
in. The passkey itself stays on your device until you delete it there.</p>
% if last:
<p class="warning">This is your last passkey. Make sure you can sign in another way.</p>
% end
<form id="passkeys-remove" method="post" action="/plugins/passkeys/remove" novalidate>
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <input type="hidden" name="id" value="{{passkey['id']}}">
  % if error:
  <p class="error" id="remove-error" role="alert">{{error}}</p>
  % end
  <div class="check">
    <input type="checkbox" id="passkeys-confirm" name="confirm" value="yes" required{{!' aria-describedby="remove-error" aria-invalid="true"' if error else ''}}>
    <label for="passkeys-confirm">Yes, remove the passkey “{{passkey["name"]}}”</label>
  </div>
  <div class="actions">
    <button type="submit">Remove</button>
    <a class="button secondary" href="/plugins/passkeys/">Keep it</a>
  </div>
</form>
