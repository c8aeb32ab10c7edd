% rebase('base.tpl', title=title)
<h1>Join this server</h1>
<p>You have been invited{{" as an administrator" if role == "admin" else ""}}. Choose a user name and the
address you will sign in to websites with.</p>
% if error:
<p class="error" role="alert">{{error}}</p>
% end
% if error and values.get('profile') == 'site':
<pre class="snippet"><code>{{"\n".join(f'<link rel="{rel}" href="{href}">' for rel, href in links)}}</code></pre>
% end
% for prover in provers:
<form class="inline" id="prove-{{prover.name}}" method="post" action="/invite/{{token}}/prove">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <input type="hidden" name="username" value="{{values.get('username', '')}}">
  <input type="hidden" name="site" value="{{values.get('site', '')}}">
  <input type="hidden" name="method" value="{{prover.name}}">
  <button type="submit" class="secondary">Prove it with {{prover.label}}</button>
</form>
% end
% if proven:
<p role="status">Your site <strong>{{proven}}</strong> is proven to be yours. Press Join to finish.</p>
% end
<form id="invite" method="post" action="/invite/{{token}}">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <label for="username">User name</label>
  <input type="text" id="username" name="username" value="{{values.get('username', '')}}" autocomplete="username"
         autocapitalize="none" spellcheck="false" required>
  <fieldset>
    <legend>Your profile URL</legend>
    <div class="check">
      <input type="radio" id="profile-hosted" name="profile" value="hosted"{{!'' if values.get('profile') == 'site' else ' checked'}}>
      <label for="profile-hosted">A page here: <code>{{hosted_base}}</code><em>your user name</em></label>
    </div>
    <div class="check">
      <input type="radio" id="profile-site" name="profile" value="site"{{!' checked' if values.get('profile') == 'site' else ''}}>
      <label for="profile-site">My own website</label>
    </div>
    <label for="site">Your website's address (if you chose your own site)</label>
    <input type="url" id="site" name="site" value="{{values.get('site', '')}}" autocomplete="url" placeholder="https://example.com/">
  </fieldset>
  <button type="submit">Join</button>
</form>
