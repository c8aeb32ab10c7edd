% # The challenge, the command that signs it and the box for what it prints (sign-in and sign-up alike).
% invalid = ' aria-invalid="true"' if error else ''
<input type="hidden" name="challenge" value="{{sealed}}">
<label for="pgp-challenge">Challenge to sign (good for {{lifetime}}, once)</label>
<textarea class="token" id="pgp-challenge" rows="4" readonly spellcheck="false">{{challenge}}</textarea>
<label for="pgp-command">Sign it: run this in a terminal</label>
<textarea class="token" id="pgp-command" rows="5" readonly spellcheck="false"
          aria-describedby="pgp-key">{{command}}</textarea>
<p class="muted" id="pgp-key">It must be signed by the key your site links to, <code>{{fingerprint}}</code>
(<a href="{{key_url}}">{{key_url}}</a>). Several keys? Add <code>--local-user</code> and that fingerprint.</p>
<label for="pgp-signature">Paste everything it prints</label>
<textarea class="token" id="pgp-signature" name="signature" rows="10" required autocomplete="off"
          autocapitalize="none" spellcheck="false"
          aria-describedby="{{'pgp-error ' if error else ''}}pgp-paste"{{!invalid}}></textarea>
<p class="muted" id="pgp-paste">From <code>-----BEGIN PGP SIGNED MESSAGE-----</code> to
<code>-----END PGP SIGNATURE-----</code>.</p>
