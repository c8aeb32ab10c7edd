% rebase('base.tpl', title=title)
<h1>Server self-test</h1>
<h2>Does the Authorization header reach the server?</h2>
% if result == "passed":
<p role="status"><strong>Yes.</strong> Apps and resource servers can send tokens in the
<code>Authorization</code> header, as the specifications want.</p>
% elif result == "renamed":
<p role="status"><strong>Yes, renamed.</strong> The web server passes it on as
<code>REDIRECT_HTTP_AUTHORIZATION</code>; this server reads it from there, so everything works.</p>
% elif result == "missing":
<p class="error" role="alert"><strong>No.</strong> The web server in front of this one removes the
<code>Authorization</code> header, so apps cannot prove their tokens.</p>
<p>On Apache (most shared hosts), add to the <code>.htaccess</code> file of this server's folder:</p>
<pre class="snippet"><code>CGIPassAuth On</code></pre>
<p>or, on Apache before 2.4.13:</p>
<pre class="snippet"><code>RewriteEngine On
RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]</code></pre>
<p>Behind nginx, make sure no <code>proxy_set_header Authorization ""</code> is configured. Then
reload this page. Until it is fixed, apps can still send the token as an <code>access_token</code>
form field in a POST body.</p>
% else:
<p class="error" role="alert"><strong>The server could not reach itself</strong> at its
<code>base_url</code> to find out: {{error}}</p>
<p>Check that <code>base_url</code> in the configuration is this server's public address.</p>
% end
<h2>Does your profile URL name this server?</h2>
% state, detail = profile
% if state == "hosted":
<p role="status"><strong>Yes.</strong> Your profile is hosted here, on the start page, with the links clients look for.</p>
% elif state == "ok":
<p role="status"><strong>Yes.</strong> <a href="{{user.me}}">{{user.me}}</a> names this server, so clients will send you here.</p>
% else:
% if state == "unreachable":
<p class="error" role="alert"><strong>Could not read</strong> <a href="{{user.me}}">{{user.me}}</a>: {{detail}}.</p>
% elif state == "other":
<p class="error" role="alert"><strong>No:</strong> <a href="{{user.me}}">{{user.me}}</a> names another server ({{detail}}).
Clients will send you there, not here.</p>
% else:
<p class="error" role="alert"><strong>No:</strong> <a href="{{user.me}}">{{user.me}}</a> does not name an IndieAuth
server, so apps cannot sign you in with it.</p>
% end
<p>Put these lines in the <code>&lt;head&gt;</code> of that page:</p>
<pre class="snippet"><code>{{"\n".join(f'<link rel="{rel}" href="{href}">' for rel, href in links)}}</code></pre>
% end
