import { createApp } from 'vue'
import { createPinia } from 'pinia'
import { ElMessage } from 'element-plus'
import 'element-plus/theme-chalk/base.css'
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/message-box/style/css'
import './styles.css'
import App from './App.vue'
import { applyLocale, currentLocale, i18n } from './i18n'
import { createAppRouter } from './router'
import { configureClient } from './api/client'
import { useAuthStore } from './stores/auth'

const app = createApp(App)
const pinia = createPinia()
const router = createAppRouter()
app.use(pinia).use(i18n).use(router)

applyLocale(currentLocale.value)

configureClient({
  getLocale: () => currentLocale.value,
  onError: (message) => {
    ElMessage({ type: 'error', message, grouping: true, showClose: true })
  },
  onUnauthorized: () => {
    const auth = useAuthStore(pinia)
    const wasSignedIn = auth.me !== null
    auth.clear()
    const here = router.currentRoute.value
    if (here.meta.public) return
    if (wasSignedIn) ElMessage({ type: 'warning', message: i18n.global.t('errors.sessionExpired'), grouping: true })
    router.replace({ name: 'login', query: here.fullPath !== '/' ? { redirect: here.fullPath } : {} })
  },
  networkErrorMessage: () => i18n.global.t('errors.network'),
  httpErrorMessage: (status) => i18n.global.t('errors.http', { status }),
})

app.mount('#app')
