% rebase('base.tpl', title=title)
<h1>Sign in</h1>
<p class="error" id="github-error" role="alert">{{error}}</p>
<p><a href="/login">Start again</a></p>
