% rebase('base.tpl', title=title)
<h1>Sign in</h1>
<p class="error" id="okta-error" role="alert">{{message}}</p>
<p><a class="button" href="{{start}}">Start again</a></p>
