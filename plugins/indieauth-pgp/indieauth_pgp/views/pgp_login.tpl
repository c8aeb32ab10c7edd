<form id="pgp-login" method="post" action="{{action}}" novalidate>
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <input type="hidden" name="next" value="{{next}}">
  % if error:
  <p class="error" id="pgp-error" role="alert">{{error}}</p>
  % end
  % if challenge:
  % include('pgp_challenge.tpl')
  <button type="submit">Sign in</button>
  % else:
  % if user:
  <p id="pgp-help">Confirm that it is you with the PGP key that <strong>{{user.me}}</strong> links to.</p>
  % elif sole_user and me:
  <input type="url" id="pgp-me" name="me" value="{{me}}" autocomplete="url" hidden readonly>
  <p id="pgp-help">Sign a challenge with the PGP key that <strong>{{me}}</strong> links to.</p>
  % else:
  <label for="pgp-me">Your website (profile URL)</label>
  <input type="url" id="pgp-me" name="me" value="{{me}}" placeholder="https://example.com/" autocomplete="url"
         inputmode="url" autocapitalize="none" spellcheck="false" required
         aria-describedby="pgp-help{{' pgp-error' if error else ''}}"{{!' aria-invalid="true"' if error else ''}}>
  <p class="muted" id="pgp-help">Your website must link your public key with <code>rel="pgpkey"</code>. You will
  sign a short challenge with <code>gpg --clearsign</code>.</p>
  % end
  <button type="submit">Get a challenge to sign</button>
  % end
</form>
