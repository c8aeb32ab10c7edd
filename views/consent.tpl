% rebase('base.tpl', title=title)
% # Also the device flow's consent screen (RFC 8628): then `device` is the user_code, and there is no redirect.
% device = get('device')
% if client.logo:
<img class="client-logo" src="{{get('logo') or '/auth/logo/' + key}}" alt="" width="64" height="64">
% end
% if device:
<h1>Connect {{client.title}} on your device?</h1>
% else:
<h1>Sign in to {{client.title}}?</h1>
% end
<dl class="facts">
  <dt>App</dt>
  <dd>
  % if client.name:
  <strong>{{client.name}}</strong><br>
  % end
  <code class="client-id">{{request.client_id}}</code>
  % if client.url and client.url != request.client_id:
  <br><span class="muted">Home page: {{client.url}}</span>
  % end
  </dd>
  % if device:
  <dt>Code</dt>
  <dd><strong class="user-code" id="user-code">{{device}}</strong></dd>
  % else:
  <dt>You will be sent to</dt>
  <dd><code>{{redirect_host}}</code></dd>
  % end
  % if get('resources'):
  <dt>To use with</dt>
  <dd id="resources">
  % for resource in resources:
    <code title="{{resource}}">{{resource.split("://", 1)[-1]}}</code><br>
  % end
  </dd>
  % end
  <dt>Signing in as</dt>
  <dd><a href="{{user.me}}">{{user.me}}</a></dd>
  % if role:
  <dt>Your role in this app</dt>
  <dd><strong>{{role}}</strong></dd>
  % end
</dl>
% include('client_named.tpl', client=client)
% if cross_host:
<p class="warning" role="note">You will be sent to <strong>{{redirect_host}}</strong>,
which is not the app's own host. Continue only if you trust it.</p>
% end
% if device:
<p class="warning" role="alert" id="device-warning"><strong>Only allow this if your own device shows the code
<span class="user-code">{{device}}</span> right now.</strong> If someone sent you this code or a link with it, choose Deny: whoever holds the
device would get into your account.</p>
% elif not request.code_challenge:
<p class="warning" role="alert"><strong>This app does not use PKCE.</strong> Someone who intercepts the
answer could use it in your name. Allow this only for an old app you trust.</p>
% end
% if hint_mismatch:
<p class="warning" role="note">The app asked for <code>{{request.me_hint}}</code>, but you are signed in as
<code>{{user.me}}</code>; it will get <code>{{user.me}}</code>.</p>
% end
<form id="consent" method="post" action="{{get('action') or '/auth/consent/' + key}}">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  % if device:
  <input type="hidden" name="key" value="{{key}}">
  % end
  % if scopes:
  <fieldset>
    <legend>It asks to:</legend>
    % for name, scope in scopes:
    <div class="check">
      <input type="checkbox" name="scope" value="{{name}}" id="scope-{{name}}" checked>
      <label for="scope-{{name}}">{{scope.description if scope else "Unknown permission"}}
        <code>{{name}}</code></label>
    </div>
    % end
  </fieldset>
  % else:
  <p>It only asks to know that you are <strong>{{user.me}}</strong>.</p>
  % end
  % if not device:  # a device's code is always looked at, never approved from memory
  <div class="check">
    <input type="checkbox" name="remember" value="yes" id="remember">
    <label for="remember">Remember this and don't ask again for this app{{" and these servers" if get('resources') else ""}}</label>
  </div>
  % end
  <div class="actions">
    <button type="submit" name="action" value="approve">Allow</button>
    <button type="submit" name="action" value="deny" class="secondary">Deny</button>
  </div>
</form>
