% rebase('base.tpl', title=title)
<h1>{{title}}</h1>
% if challenge:
<p>Sign this challenge with the PGP key that <strong>{{me}}</strong> links to, to prove that the site is yours.</p>
<form id="pgp-prove" method="post" action="/login/pgp/prove" novalidate>
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  % if error:
  <p class="error" id="pgp-error" role="alert">{{error}}</p>
  % end
  % include('pgp_challenge.tpl')
  <button type="submit">Prove my site</button>
</form>
% else:
<p class="error" id="pgp-error" role="alert">{{error}}</p>
% end
% if back:
<p><a href="{{back}}">Back to the invite</a></p>
% else:
<p>Open your invite link again to prove your site with a new challenge.</p>
% end
